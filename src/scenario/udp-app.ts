/**
 * The application side of one scripted UDP socket (S33): it sends what the script says and
 * reads datagrams either as they arrive (a program looping on recv()) or only when the
 * script says `udp-read` (a slow or busy program, whose receive buffer then fills).
 */
import type { UdpSocket } from "../ip/udp/socket.js";

export class UdpApp {
  reading: boolean;
  sent = 0;
  read = 0;
  readBytes = 0;

  constructor(
    readonly label: string,
    readonly host: string,
    readonly socket: UdpSocket,
    reading: boolean,
    /** Reports what a read took: datagrams, bytes, and how many are still queued. */
    private readonly onRead: (datagrams: number, bytes: number, left: number) => void,
  ) {
    this.reading = reading;
    socket.onWake = () => {
      if (this.reading) this.take(Infinity);
    };
  }

  /** Reads up to `max` queued datagrams now; returns how many it read. */
  take(max: number): number {
    let n = 0;
    let bytes = 0;
    while (n < max) {
      const m = this.socket.recv();
      if (m === undefined) break;
      n++;
      bytes += m.data.length;
    }
    if (n > 0) {
      this.read += n;
      this.readBytes += bytes;
      this.onRead(n, bytes, this.socket.receiveQueueLength);
    }
    return n;
  }
}
