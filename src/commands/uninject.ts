import { Command } from "commander";
import type { Deps } from "../deps.js";
import { MeshError } from "../errors.js";

// Placeholder until the command lands; it is registered so that help lists it.
export const uninjectCommand = (_deps: Deps) =>
  new Command("uninject").action(() => {
    throw new MeshError("`mesh uninject` is not implemented yet");
  });
