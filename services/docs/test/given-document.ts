import { expect } from "vitest";
import { AppError, type ApiTokenScope, type DomainEvent, type ErrorCode } from "@palimpsest/contracts";
import { decide, emptyDoc, evolve, type DocCommand, type DocEventData, type DocState } from "../src/domain/document.ts";

/** A stored event, or one with the actor who caused it (comments belong to their author). */
export type Given = DocEventData | readonly [DocEventData, string];

/** An event as the store hands it to `evolve`: the i-th, at a fixed time. */
export function stored(g: Given, i: number): DomainEvent {
  const [e, actorId] = Array.isArray(g) ? (g as readonly [DocEventData, string]) : [g as DocEventData, undefined];
  return { id: `e${i}`, type: e.type, at: "2026-01-01T00:00:00.000Z", ...(actorId ? { actorId } : {}), data: e.data } as DomainEvent;
}

/** Folds the events as the store does, each at its stream sequence (1, 2, 3 ... unless given). */
export function foldDocument(docId: string, events: readonly Given[], seqs: readonly number[] = events.map((_, i) => i + 1)): DocState {
  return events.reduce((state, e, i) => evolve(state, stored(e, i), seqs[i]!), emptyDoc(docId));
}

/**
 * The document aggregate as given(stored events) / when(command by actor) / then(new events, or
 * a refusal with its stable code). Commands are checked only through `decide`.
 */
export function givenDocument(docId: string) {
  return (...events: Given[]) => {
    const state = foldDocument(docId, events);
    return {
      state,
      /** `scopes`: the command comes through an API token of the actor's with these scopes. */
      when(command: DocCommand, actor: string, scopes?: readonly ApiTokenScope[]) {
        const run = () => decide(state, command, actor, scopes);
        return {
          then(...expected: DocEventData[]) {
            const decided = run();
            expect(decided).toEqual(expected);
            // What was decided must fold: a decision the aggregate cannot apply would wedge the document.
            foldDocument(docId, [...events, ...decided.map((d): Given => [d, actor])]);
          },
          thenNothing() {
            expect(run()).toEqual([]);
          },
          thenRefused(code: ErrorCode) {
            let thrown: unknown;
            try {
              run();
            } catch (err) {
              thrown = err;
            }
            expect(thrown, `expected ${code}`).toBeInstanceOf(AppError);
            expect((thrown as AppError).code).toBe(code);
          },
        };
      },
    };
  };
}
