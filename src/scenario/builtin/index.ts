/** The built-in scenarios, in the order `synack demo --list` shows them. */
import type { ScenarioSpec } from "../model.js";
import { closeClient, closeServer, finWait2Timeout, halfClose, lostFinalAck, simultaneousClose, timeWaitReuse, tour } from "./close.js";
import { corruption, dataTransfer, duplication, keepalive, lostData, mtuBlackHole, pathMtu, rackLoss, reordering, spuriousRetransmission, spuriousTimeout, tailLossProbe, zeroWindow } from "./data.js";
import { bbr } from "./bbr.js";
import { ecn } from "./ecn.js";
import { fastOpen } from "./fast-open.js";
import { udpFragments, udpOverflow } from "./udp.js";
import { urgentData } from "./urgent.js";
import { connectionRefused, handshake, lostSyn, lostSynAck, lostThirdAck, lostThirdAckReset, oldDuplicateSyn, simultaneousOpen, synFlood, synFloodCookies } from "./open.js";

export const BUILTIN_SCENARIOS: readonly ScenarioSpec[] = [
  tour,
  handshake,
  dataTransfer,
  closeClient,
  closeServer,
  halfClose,
  simultaneousOpen,
  simultaneousClose,
  lostSyn,
  lostSynAck,
  lostThirdAck,
  lostThirdAckReset,
  lostFinalAck,
  oldDuplicateSyn,
  connectionRefused,
  timeWaitReuse,
  finWait2Timeout,
  lostData,
  rackLoss,
  tailLossProbe,
  spuriousRetransmission,
  spuriousTimeout,
  ecn,
  bbr,
  pathMtu,
  mtuBlackHole,
  reordering,
  duplication,
  corruption,
  zeroWindow,
  keepalive,
  synFlood,
  synFloodCookies,
  fastOpen,
  urgentData,
  udpOverflow,
  udpFragments,
];

export function findBuiltin(name: string): ScenarioSpec | undefined {
  return BUILTIN_SCENARIOS.find((s) => s.name === name);
}
