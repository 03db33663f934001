// Kept where bench/ imports it from; the Twilio provider's code lives in providers/twilio/.
export { createBaseUrlRequestClient } from "./providers/twilio/base-url.js";
