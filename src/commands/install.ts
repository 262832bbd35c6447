import { Command } from "commander";
import type { Deps } from "../deps.js";
import { MeshError } from "../errors.js";

// Placeholder until the command lands; it is registered so that help lists it.
export const installCommand = (_deps: Deps) =>
  new Command("install").action(() => {
    throw new MeshError("`mesh install` is not implemented yet");
  });
