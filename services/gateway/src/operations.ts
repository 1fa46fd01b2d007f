/** What operator tools (scripts/) may use of the gateway service: its settings. Tools import this entry, never the internals. */
export { gatewayConfigSpec as configSpec, loadGatewayConfig as loadConfig, type GatewayConfig as Config } from "./config.ts";
