/** Reads a V8 `.cpuprofile` (as `deno run --cpu-prof` writes it) into its top frames by self time. */

/** The parts of a V8 CPU profile this reads. */
export interface CpuProfile {
  /** The call tree's nodes, each with the frame it sampled. */
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
  }[];
  /** The node each sample landed on. */
  samples: number[];
  /** Microseconds since the previous sample, one per sample. */
  timeDeltas: number[];
}

/** One frame's share of a profile. */
export interface Frame {
  /** `function file:line`, with the file's path from `lib/`, `bench/` or `ext:` on. */
  name: string;
  /** Self time: samples on this frame itself, in ms. */
  ms: number;
  /** Its share of every sample, idle included, 0 to 1. */
  share: number;
}

/**
 * The frames with the most self time in a profile, the same function at the same line summed.
 *
 * @param profile The profile.
 * @param limit How many frames at most.
 * @returns The frames, the most self time first.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * const frame = (functionName: string, url: string) => ({ functionName, url, lineNumber: 9 });
 * const profile = {
 *   nodes: [{ id: 1, callFrame: frame("(idle)", "") }, { id: 2, callFrame: frame("f", "file:///x/lib/a.ts") }],
 *   samples: [1, 2, 2, 2],
 *   timeDeltas: [1000, 1000, 1000, 1000],
 * };
 * assert.deepEqual(topFrames(profile, 1), [{ name: "f lib/a.ts:10", ms: 3, share: 0.75 }]);
 * ```
 */
export function topFrames(profile: CpuProfile, limit: number): Frame[] {
  const nameOf = new Map<number, string>();
  for (const { id, callFrame } of profile.nodes) {
    const file = shortFile(callFrame.url);
    const where = file === "" ? "" : ` ${file}:${callFrame.lineNumber + 1}`;
    nameOf.set(id, `${callFrame.functionName || "(anonymous)"}${where}`);
  }
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  profile.samples.forEach((node, i) => {
    // A sample's delta is the time since the one before: the time this sample stands for.
    const us = profile.timeDeltas[i] ?? 0;
    const name = nameOf.get(node) ?? "(unknown)";
    selfUs.set(name, (selfUs.get(name) ?? 0) + us);
    totalUs += us;
  });
  return [...selfUs]
    .sort((a, b) => b[1] - a[1])
    .slice(0, limit)
    .map(([name, us]) => ({ name, ms: us / 1000, share: totalUs > 0 ? us / totalUs : 0 }));
}

/** A script's URL from the folder a reader knows it by: `lib/`, `bench/`, `main.ts` or `ext:`. */
function shortFile(url: string): string {
  const ours = /\/((?:lib|bench|tests)\/.*|main\.ts)$/.exec(url);
  return ours ? ours[1] : url;
}
