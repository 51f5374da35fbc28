/**
 * The simulator's network side: SMS-DELIVER and SMS-STATUS-REPORT encoders. They live with the PDU
 * layer (src/sms/pdu/deliverEncode.ts), which the gateway also uses to deliver to handsets.
 */
export * from "../sms/pdu/deliverEncode.js";
