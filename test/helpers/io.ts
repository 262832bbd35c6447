export { memoryIo } from "../../src/io.js";
