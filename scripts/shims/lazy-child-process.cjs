// commander requires node:child_process at load time but only uses it to run external
// subcommands, which mesh has none of. Loading it costs ~25 ms of start-up (it pulls in net,
// dgram and streams), so the bundle gets this lazy stand-in instead.
let real;
const load = () => (real ??= require("node:child_process"));
module.exports = new Proxy({}, { get: (_t, key) => load()[key] });
