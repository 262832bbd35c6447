import { Command } from "commander";
import type { Deps } from "../deps.js";
import { MeshError } from "../errors.js";

// Placeholder until the command lands; it is registered so that help lists it.
export const injectCommand = (_deps: Deps) =>
  new Command("inject").action(() => {
    throw new MeshError("`mesh inject` is not implemented yet");
  });
