/**
 * A pause between retries that stopping can cut short, so a loop waiting out a back-off ends at
 * once on shutdown instead of after the full delay.
 */
export function wakeableSleep(): { sleep(ms: number): Promise<void>; wake(): void } {
  let wakeUp: (() => void) | undefined;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const t = setTimeout(resolve, ms);
        wakeUp = () => {
          clearTimeout(t);
          resolve();
        };
      }),
    wake: () => wakeUp?.(),
  };
}
