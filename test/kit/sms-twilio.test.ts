// The transport kit against the SMS transport with Twilio as its provider (Twilio's stand-in).
import { twilioDriver } from "./sms-drivers.js";
import { transportKit } from "./transport-kit.js";

transportKit(twilioDriver);
