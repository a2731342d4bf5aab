/**
 * The bits of Linux's `net.ipv4.tcp_fastopen` (Documentation/networking/ip-sysctl.rst,
 * include/net/tcp.h), which synack's `fastOpen` setting takes as they are.
 */

/** Send data in the SYN when a cookie is cached, and request cookies (client). */
export const TFO_CLIENT_ENABLE = 0x1;
/** Accept data in the SYN of a listener that enabled Fast Open (server). */
export const TFO_SERVER_ENABLE = 0x2;
/** Client: send data in the SYN without any cookie option. */
export const TFO_CLIENT_NO_COOKIE = 0x4;
/** Server: accept data in SYNs that carry no cookie. */
export const TFO_SERVER_COOKIE_NOT_REQD = 0x200;
/** Server: every listener does Fast Open, its queue as long as its listen() backlog. */
export const TFO_SERVER_WO_SOCKOPT1 = 0x400;

/** Linux's default: client side on, server side off until asked. */
export const FAST_OPEN_DEFAULT = TFO_CLIENT_ENABLE;

/** Bytes of option space a SYN with data leaves free for middleboxes (Linux MAX_TCP_OPTION_SPACE). */
export const MAX_TCP_OPTION_SPACE = 40;
