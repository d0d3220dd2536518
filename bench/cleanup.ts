/** How the benchmark's entry points end: cleanup steps on success, on error and on Ctrl-C. */

/** Steps run last first, on success, on error and on Ctrl-C. */
export class Cleanup {
  private readonly steps: Array<() => Promise<unknown>> = [];
  private done?: Promise<void>;

  constructor() {
    process.once('SIGINT', () => void this.run().finally(() => process.exit(130)));
  }

  add(step: () => Promise<unknown>): void {
    this.steps.push(step);
  }

  run(): Promise<void> {
    this.done ??= (async () => {
      for (const step of this.steps.reverse()) await step().catch(console.error);
    })();
    return this.done;
  }
}

/** Exit code 0 when `main` resolves; 1 with the error when not; cleanup either way. */
export function runMain(main: (cleanup: Cleanup) => Promise<void>): void {
  const cleanup = new Cleanup();
  main(cleanup)
    .finally(() => cleanup.run())
    .then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
}
