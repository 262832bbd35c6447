import { Option } from "commander";

/**
 * `--via`: how the commands that read proxies' admin endpoints reach them (see via.ts). Apart
 * from via.ts so that defining a command loads none of the transport.
 */
export type Via = "auto" | "proxy" | "port-forward";
export const VIA_CHOICES: readonly Via[] = ["auto", "proxy", "port-forward"];

/** The `--via` option of the commands that read proxies' admin endpoints. */
export function viaOption(): Option {
  return new Option(
    "--via <transport>",
    "how to reach each proxy's admin port: proxy (the API server's pod proxy), port-forward, or auto (pod proxy, then port-forward if the API server cannot reach pod IPs)",
  )
    .choices(VIA_CHOICES as string[])
    .default("auto");
}
