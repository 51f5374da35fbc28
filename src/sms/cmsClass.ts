/**
 * What the SMS queue should do after one failed AT+CMGS: a pure mapping from the final result of the
 * send (`+CMS ERROR: <n>`, `+CME ERROR: <n>`, plain `ERROR`, or no final result in time) to a class.
 *
 * - `permanent`: the message itself can never go; fail it now and never resend.
 * - `temporary`: the network or SMSC is busy or failing; retry with backoff on the same or another modem.
 * - `modem`: this modem, its SIM or its subscription is the problem, not the message; retry on another
 *   modem and flag this one.
 *
 * `<err>` ranges (3GPP TS 27.005 §3.2.5): 0…127 are TS 24.011 RP-Cause values (Table 8.4, Annex E.2),
 * 128…255 are TS 23.040 §9.2.3.22 TP-Failure-Cause values, 300…511 are 27.005 ME/network errors and
 * 512+ are manufacturer specific. The full table with its sources and the disagreements resolved is in
 * docs/cms-errors.md; every row below names its source.
 *
 * What real gateways do, for comparison (none of them classifies by code):
 * - smstools3 src/smsd.c send_part(): any non-OK answer to CMGS is retried twice (errorsleeptime, modem
 *   re-initialised) then the message fails; src/modeminit.c gsm_cms_errors[] only names the codes.
 * - Kannel gw/smsc/smsc_at.c at2_send_one_message(): any +CMS/+CME ERROR or timeout after the PDU is
 *   reported as SMSCCONN_FAILED_TEMPORARILY (requeued); at2_error_string() only names the codes.
 * - Kamailio src/modules/sms/libsms_putsms.c putsms(): on any error, checkmodem(); if the modem had to be
 *   re-initialised the SMS is resent, otherwise it is retried once ("possible corrupted sms") and then
 *   dropped ("FUBAR sms").
 * So all three treat an unexplained failure as retryable a bounded number of times; this table refines
 * that with the spec's meaning of each code, and the caller still bounds the number of attempts.
 */

export type SendFailureKind = "cms" | "cme" | "error" | "timeout";

export interface SendFailure {
  kind: SendFailureKind;
  /** The `<err>` number for `cms` / `cme` (classifyFinal gives -1 for a text it could not map). */
  code?: number;
}

export type SendFailureClass = "permanent" | "temporary" | "modem";
export type SendRetry = "never" | "same_or_other_modem" | "other_modem";

export interface SendFailureVerdict {
  class: SendFailureClass;
  retry: SendRetry;
  reason: string;
}

const RETRY_OF: Readonly<Record<SendFailureClass, SendRetry>> = {
  permanent: "never",
  temporary: "same_or_other_modem",
  modem: "other_modem",
};

export interface SendFailureRow {
  class: SendFailureClass;
  reason: string;
}

const row = (cls: SendFailureClass, reason: string): SendFailureRow => ({ class: cls, reason });

/**
 * `+CMS ERROR: <n>` rows. Every code of CMS_ERRORS (src/at/results.ts) has a row here (a unit test checks
 * it), plus the TS 23.040 TP-FCS values a modem may pass through.
 */
export const CMS_CLASS: Readonly<Record<number, SendFailureRow>> = {
  // --- 0…127: TS 24.011 RP-Cause, Table 8.4 (part 1, MO transfer); meaning from Annex E.2. ---
  // 24.011 E.2 #1: "the destination requested by the MS ... is not currently assigned". Note: 23.040 /
  // 23.540 also map "unknown service centre" to #1; see docs (kept permanent, the number is the usual cause).
  1: row("permanent", "unassigned (unallocated) number"),
  // 24.011 E.2 #8 "the MS's network operator ... has forbidden such transactions"; 23.040 maps
  // SendInfoForMO-SMS error CallBarred/operatorBarring to #8: the SENDING SIM is barred (e.g. prepaid
  // credit exhausted). Another SIM can send the same message, so this is the modem's SIM, not the message.
  8: row("modem", "operator determined barring of this SIM (sender subscription)"),
  // 24.011 E.2 #10 "the outgoing call barred service applies"; 23.040: SendInfoForMO-SMS CallBarred/
  // barringServiceActive -> #10, i.e. barring on the sending subscription: try another SIM.
  10: row("modem", "outgoing SMS barred on this SIM (sender subscription)"),
  // 24.011 E.2 #21 "does not wish to accept this short message"; 23.040/23.540 map "invalid SME address"
  // (bad destination) to #21.
  21: row("permanent", "short message transfer rejected (invalid destination)"),
  // 24.011 E.2 #27 "the interface to the destination is not functioning correctly".
  27: row("temporary", "destination out of service"),
  // 24.011 E.2 #28 "the subscriber is not registered in the PLMN (IMSI not known)"; 23.540 maps
  // USER_NOT_SERVICE_CENTER (sender not a subscriber of that SMSC) to #28: the sending SIM.
  28: row("modem", "unidentified subscriber (this SIM unknown to the network/SMSC)"),
  // 24.011 E.2 #29 "the facility requested by the MS is not supported by the PLMN": this SIM's network.
  29: row("modem", "facility rejected by this SIM's network"),
  // 24.011 E.2 #30 "not registered in the HLR (IMSI or directory number not allocated)": a sending SIM
  // unknown in the HLR could not be registered at all, so here it is the destination number.
  30: row("permanent", "unknown subscriber (destination number not allocated)"),
  // 24.011 E.2 #38 "likely to last a relatively long period of time"; 23.040 maps MAP DataMissing /
  // UnexpectedDataValue / SystemFailure to #38. Back off, but never give up on it.
  38: row("temporary", "network out of order"),
  // 24.011 E.2 #41 "not likely to last a long period ... try another attempt almost immediately".
  41: row("temporary", "temporary failure"),
  // 24.011 E.2 #42 "cannot be serviced because of high traffic"; 23.540 SERVICE_CENTRE_CONGESTION -> #42.
  42: row("temporary", "congestion"),
  // 24.011 E.2 #47 "resource unavailable event".
  47: row("temporary", "resources unavailable"),
  // 24.011 E.2 #50 "the user has not completed the necessary administrative arrangements"; 23.040 maps
  // SendInfoForMO-SMS TeleserviceNotProvisioned to #50: the sending SIM has no SMS subscription.
  50: row("modem", "SMS not subscribed on this SIM (sender subscription)"),
  // 24.011 E.2 #69 "the network is unable to provide the requested short message service"; 23.540
  // FACILITY_NOT_SUPPORTED -> #69. The network serving this SIM, another modem/operator may do it.
  69: row("modem", "requested facility not implemented by this SIM's network"),
  // 24.011 E.2 #81: an RP message reference "not currently in use on the MS-network interface": a
  // protocol-state glitch of this transfer; a new attempt uses a new reference.
  81: row("temporary", "invalid short message transfer reference (protocol state)"),
  // 24.011 E.2 #95…#99: the invalid-message class; 23.540 maps SMS_PAYLOAD_ERROR to #99. Resending the
  // same PDU gives the same answer.
  95: row("permanent", "invalid message"),
  96: row("permanent", "invalid mandatory information"),
  97: row("permanent", "message type non-existent or not implemented"),
  98: row("permanent", "message not compatible with short message protocol state"),
  99: row("permanent", "information element non-existent or not implemented"),
  // 24.011 E.2 #111 "a protocol error event only when no other cause applies": not certain to recur.
  111: row("temporary", "protocol error, unspecified"),
  // 24.011 E.2 #127 "the precise cause ... cannot be ascertained": not certainly undeliverable.
  127: row("temporary", "interworking, unspecified"),

  // --- 128…255: TS 23.040 §9.2.3.22 TP-Failure-Cause (SMS-SUBMIT report from the SMSC). ---
  // 0x80…0x8F TP-PID errors, 0x90…0x9F TP-DCS errors, 0xA0…0xAF TP-Command errors, 0xB0 TPDU: the SMSC
  // refuses what is in this TPDU; the same PDU is refused again.
  128: row("permanent", "telematic interworking not supported (TP-PID)"),
  129: row("permanent", "short message type 0 not supported (TP-PID)"),
  130: row("permanent", "cannot replace short message (TP-PID)"),
  143: row("permanent", "unspecified TP-PID error"),
  144: row("permanent", "data coding scheme (alphabet) not supported"),
  145: row("permanent", "message class not supported"),
  159: row("permanent", "unspecified TP-DCS error"),
  160: row("permanent", "command cannot be actioned"),
  161: row("permanent", "command unsupported"),
  175: row("permanent", "unspecified TP-Command error"),
  176: row("permanent", "TPDU not supported"),
  // 0xC0…0xCF SC errors.
  192: row("temporary", "SC busy"),
  193: row("modem", "no SC subscription (this SIM)"),
  194: row("temporary", "SC system failure"),
  195: row("permanent", "invalid SME address (destination)"),
  196: row("permanent", "destination SME barred"),
  // The SMSC already holds a message with this TP-MR from us: resending cannot help (and it may already
  // be on its way).
  197: row("permanent", "SM rejected, duplicate SM"),
  198: row("permanent", "TP-VPF not supported"),
  199: row("permanent", "TP-VP not supported"),
  // 0xFF "unspecified error cause": not certainly undeliverable.
  255: row("temporary", "unspecified TP error cause"),

  // --- 300…511: TS 27.005 §3.2.5 ME / network errors. ---
  300: row("modem", "ME failure"),
  301: row("modem", "SMS service of ME reserved"),
  // Returned for CMGS when the ME is in a state that refuses it (SIM not ready, not registered, wrong
  // mode); our CMGS is well-formed, so it is this modem's state.
  302: row("modem", "operation not allowed (modem state)"),
  303: row("modem", "operation not supported by this modem"),
  // 27.005: the PDU (or its length) is invalid: every modem would refuse the same PDU.
  304: row("permanent", "invalid PDU mode parameter"),
  305: row("permanent", "invalid text mode parameter"),
  310: row("modem", "SIM not inserted"),
  311: row("modem", "SIM PIN required"),
  312: row("modem", "PH-SIM PIN required"),
  313: row("modem", "SIM failure"),
  314: row("modem", "SIM busy"),
  315: row("modem", "SIM wrong"),
  316: row("modem", "SIM PUK required"),
  317: row("modem", "SIM PIN2 required"),
  318: row("modem", "SIM PUK2 required"),
  320: row("modem", "memory failure"),
  321: row("modem", "invalid memory index"),
  322: row("modem", "memory full"),
  // AT+CSCA empty/unknown on this SIM: another modem has its own SMSC address.
  330: row("modem", "SMSC address unknown (AT+CSCA on this SIM)"),
  // Lost coverage/registration is usually site-wide (radio, backhaul) and passes: back off and retry.
  331: row("temporary", "no network service"),
  332: row("temporary", "network timeout"),
  // A reply to AT+CNMA, not to CMGS: the channel is out of step with the modem.
  340: row("modem", "no +CNMA acknowledgement expected (channel out of step)"),
  // 27.005 "unknown error": nothing says the message is bad.
  500: row("temporary", "unknown error"),

  // --- 512+: manufacturer specific. smstools3 src/modeminit.c gsm_cms_errors[]: 512 "MM establishment
  // failure / weak signal", 513 "lower layer failure ... lost the radio link", 514 "congestion in the
  // network", 515 "service is not available, init in progress": all radio/network/transient. ---
  512: row("temporary", "SMS sending failed (vendor: MM establishment failure / weak signal)"),
  513: row("temporary", "lower layer failure, radio link lost (vendor)"),
  514: row("temporary", "network congestion (vendor)"),
  515: row("temporary", "service not available, init in progress (vendor)"),
};

/** `+CME ERROR: <n>` rows, TS 27.007 §9.2 (every code of CME_ERRORS in src/at/results.ts). */
export const CME_CLASS: Readonly<Record<number, SendFailureRow>> = {
  0: row("modem", "phone failure"),
  1: row("modem", "no connection to phone"),
  3: row("modem", "operation not allowed (modem state)"),
  4: row("modem", "operation not supported by this modem"),
  5: row("modem", "PH-SIM PIN required"),
  10: row("modem", "SIM not inserted"),
  11: row("modem", "SIM PIN required"),
  12: row("modem", "SIM PUK required"),
  13: row("modem", "SIM failure"),
  14: row("modem", "SIM busy"),
  15: row("modem", "SIM wrong"),
  16: row("modem", "incorrect password"),
  17: row("modem", "SIM PIN2 required"),
  18: row("modem", "SIM PUK2 required"),
  20: row("modem", "memory full"),
  21: row("modem", "invalid index"),
  22: row("modem", "not found"),
  23: row("modem", "memory failure"),
  // The text / dial string is the message's own: every modem refuses it the same way.
  24: row("permanent", "text string too long"),
  26: row("permanent", "dial string too long"),
  27: row("permanent", "invalid characters in dial string"),
  30: row("temporary", "no network service"),
  31: row("temporary", "network timeout"),
  // Registered for emergency calls only: this SIM is refused by the network.
  32: row("modem", "network not allowed, emergency calls only"),
  100: row("temporary", "unknown error"),
  // smstools3 src/modeminit.c gsm_cme_errors[] 515 "device busy"; results.ts "init or command processing in
  // progress": wait and retry.
  515: row("temporary", "device busy"),
};

const VENDOR_FIRST = 512;

function unknown(kind: "cms" | "cme", code: number): SendFailureVerdict {
  const vendor = kind === "cms" && code >= VENDOR_FIRST;
  // Vendor codes (27.005: 512+ manufacturer specific) are, in every table we have (smstools3 512…515),
  // radio/network conditions; an unknown code says nothing against the message. Retrying is what
  // smstools3, Kannel and Kamailio do for any error; the caller bounds the attempts.
  const reason = vendor
    ? `unknown error ${code} (manufacturer-specific, treated as transient)`
    : `unknown error ${code}`;
  return { class: "temporary", retry: RETRY_OF.temporary, reason };
}

function verdict(r: SendFailureRow, prefix: string, code: number): SendFailureVerdict {
  return { class: r.class, retry: RETRY_OF[r.class], reason: `${prefix} ${code}: ${r.reason}` };
}

/** The explicit row for a code, or `undefined` when it would fall through to the unknown-code rule. */
export function sendFailureRow(kind: "cms" | "cme", code: number): SendFailureRow | undefined {
  const table = kind === "cms" ? CMS_CLASS : CME_CLASS;
  return Object.hasOwn(table, code) ? table[code] : undefined;
}

export function classifySendFailure(f: SendFailure): SendFailureVerdict {
  switch (f.kind) {
    case "cms":
    case "cme": {
      const code = f.code ?? -1;
      const r = sendFailureRow(f.kind, code);
      if (r === undefined) return unknown(f.kind, code);
      return verdict(r, f.kind === "cms" ? "+CMS ERROR" : "+CME ERROR", code);
    }
    case "error":
      // No cause given (AT+CMEE off, or a PDU/length the modem would not take). Cannot tell message from
      // modem; all three gateways (smstools3, Kannel, Kamailio) retry this.
      return {
        class: "temporary",
        retry: RETRY_OF.temporary,
        reason: "ERROR without a cause (modem or message unknown)",
      };
    case "timeout":
      // No final result in time: slow network or a hung modem. The SMS may still have gone, so a
      // resend can duplicate it; Kannel reports it as failed temporarily.
      return {
        class: "temporary",
        retry: RETRY_OF.temporary,
        reason: "no final result in time (may have been sent)",
      };
  }
}
