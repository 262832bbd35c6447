#!/usr/bin/env node
import { main } from "../dist/runtime.js";

await main();
