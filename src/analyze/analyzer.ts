/** The shape every analyzer has: the kinds it reads, the codes it may report, and a pure run over a World. */
import type { World } from "./context.js";
import { MESSAGES, type MessageId } from "./messages.js";
import type { Obj, PathStep, Severity } from "./model.js";

/** Reports one finding: about `o`, at the field `at` (for the line), with a one-sentence message and the fix. */
export type Emit = (id: MessageId, o: Obj, at: readonly PathStep[], message: string, fix: string, severity?: Severity) => void;

export interface Analyzer {
  id: string;
  /** Kinds it reads (documentation). */
  kinds: string[];
  codes: MessageId[];
  run(world: World, emit: Emit): void | Promise<void>;
}

export const code = (id: MessageId) => MESSAGES[id].code;

/** Quotes a server- or file-supplied value in a message. */
export const q = (s: string) => `"${s.replace(/"/g, "\\\"")}"`;
