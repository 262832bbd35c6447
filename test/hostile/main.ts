// mesh as a process from the source (what bin/mesh.js does with dist/), for the hostile suite.
import { writeFileSync } from "node:fs";
import { main } from "../../src/cli.js";

// The harness reads this process's peak memory from here (KiB, as getrusage reports it).
const rssFile = process.env.MESH_HOSTILE_RSS_FILE;
if (rssFile) process.on("exit", () => writeFileSync(rssFile, String(process.resourceUsage().maxRSS)));

await main(process.argv.slice(2));
