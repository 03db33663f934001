// The transport kit against the SMS transport with Telnyx as its provider (Telnyx's stand-in).
import { telnyxDriver } from "./sms-drivers.js";
import { transportKit } from "./transport-kit.js";

transportKit(telnyxDriver);
