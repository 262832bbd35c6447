// mesh as a process from the source (what bin/mesh.js does with dist/), for the hostile suite.
import { main } from "../../src/cli.js";

await main(process.argv.slice(2));
