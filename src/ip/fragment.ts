/**
 * Where to cut an outgoing datagram that does not fit the MTU (RFC 791 3.2, "An Example
 * Fragmentation Procedure"; RFC 1122 3.3.3).
 *
 * Every fragment but the last carries a multiple of 8 payload bytes, because the fragment
 * offset field counts 8-byte units. All fragments carry the same header (we send no
 * options, so nothing is copied selectively), the same ID, and MF set on all but the last.
 */
import { IPV4_MIN_HEADER } from "../wire/ipv4.js";
import { InvalidSettingError } from "../invalid-setting.js";

export interface FragmentPiece {
  /** Offset of this piece in the datagram's payload, in bytes (a multiple of 8). */
  offset: number;
  length: number;
  /** More fragments follow (the MF flag). */
  more: boolean;
}

/**
 * Cuts `payloadLength` bytes into pieces that each fit `mtu` together with a header of
 * `headerLength` bytes. A payload that fits comes back as one piece with `more` false.
 */
export function planFragments(payloadLength: number, mtu: number, headerLength: number = IPV4_MIN_HEADER): FragmentPiece[] {
  if (headerLength + payloadLength <= mtu) return [{ offset: 0, length: payloadLength, more: false }];
  // Largest multiple of 8 that fits after the header (RFC 791: NFB, the number of fragment blocks).
  const perFragment = Math.floor((mtu - headerLength) / 8) * 8;
  if (perFragment <= 0) throw new InvalidSettingError(`MTU ${mtu} leaves no room for fragment data after a ${headerLength}-byte header`);
  const pieces: FragmentPiece[] = [];
  for (let offset = 0; offset < payloadLength; offset += perFragment) {
    const length = Math.min(perFragment, payloadLength - offset);
    pieces.push({ offset, length, more: offset + length < payloadLength });
  }
  return pieces;
}
