/** The SYN cookie of a selected SYN,ACK or final ACK, taken apart step by step (model/cookies.ts). */
import { COOKIE_MSS_TABLE } from "../../../src/tcp/syn-cookies.js";
import type { SegmentRecord } from "../model/session.js";
import { h } from "./dom.js";

const hex = (n: number, digits = 8): string => `0x${(n >>> 0).toString(16).padStart(digits, "0")}`;

export function renderCookie(r: SegmentRecord): HTMLElement | undefined {
  const c = r.cookie;
  if (c === undefined) return undefined;
  const d = c.decoding;
  const box = h("div", { class: "cookie-decode", "data-valid": String(d.valid) });
  const who =
    c.role === "made"
      ? `${r.from}'s SYN queue was full, so it kept nothing and made this SYN,ACK's ISN a cookie`
      : `${r.from} echoes the cookie as ack − 1; ${r.to} ${c.action === "accepted" ? "accepted it and built the connection from this ACK alone" : "rejected it"}`;
  box.append(h("h4", {}, "SYN cookie (RFC 4987 3.6, Linux's layout)"), h("p", {}, who));
  const check = d.valid
    ? `holds: fresh (age ${d.age} < 2) and the index is in the table`
    : !d.fresh
      ? `fails: the cookie is ${d.age} minutes old (2 or more)`
      : `fails: index ${d.mssIndex} is not in the table (0..${COOKIE_MSS_TABLE.length - 1}): forged or corrupted`;
  const rows: Array<[string, string, string]> = [
    ["cookie", c.role === "made" ? "ISN of the SYN,ACK" : "ack − 1", hex(c.cookie)],
    ["client ISN", c.role === "made" ? "ack − 1 of the SYN,ACK" : "seq − 1 of the ACK", hex(c.clientIsn)],
    ["rest", "cookie − H1(4-tuple) − client ISN", hex(d.rest)],
    ["counter", "minute counter: top 8 bits of rest", `${d.counter} (the listener's is ${d.nowCounter} now: age ${d.age} min)`],
    ["low", "low 24 bits of rest", hex(d.low, 6)],
    ["hash", "H2(4-tuple, counter), 24 bits", hex(d.hash, 6)],
    ["mss-index", "MSS index = low − H2", d.mss !== undefined ? `${d.mssIndex} → MSS ${d.mss} (table ${COOKIE_MSS_TABLE.join(", ")})` : `${d.mssIndex}`],
    ["check", "hash check", check],
  ];
  const table = h("table", {});
  for (const [key, what, value] of rows) table.append(h("tr", {}, h("th", {}, what), h("td", { "data-cookie": key }, value)));
  box.append(table);
  return box;
}
