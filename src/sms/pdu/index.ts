/**
 * The pure PDU layer of the SMS path: SMS-SUBMIT encoding (ours) and decoding of what modems hand
 * us (node-pdu, repaired). No I/O. See docs/pdu.md.
 */

export type { Alphabet } from "./dcs.js";
export {
  type Concat,
  type DecodedDeliver,
  type DecodedPdu,
  type DecodedStatusReport,
  type DecodedSubmit,
  decodePdu,
} from "./deliver.js";
export { countParts, type Encoding, type PartCount } from "./segment.js";
export { type EncodedSubmit, encodeSubmit, type SubmitPart, type SubmitRequest } from "./submit.js";
