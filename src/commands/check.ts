import { Command } from "commander";
import type { Deps } from "../deps.js";
import { MeshError } from "../errors.js";

// Placeholder until the command lands; it is registered so that help lists it.
export const checkCommand = (_deps: Deps) =>
  new Command("check").action(() => {
    throw new MeshError("`mesh check` is not implemented yet");
  });
