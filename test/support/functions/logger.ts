/**
 * A function for the local runtime's tests of function logs: writes what its event asks, in the
 * ways code writes to stdout and stderr, then returns, keeps writing later, or crashes.
 */
interface LogEvent {
  lines: string[];
  /** Written after the handler returned (a background write, as a timer's). */
  later?: string;
  /** Throws outside the invocation after writing its lines (the container crashes). */
  crash?: boolean;
}

export const handler = async (event: LogEvent) => {
  const [first, second, third, ...rest] = event.lines;
  if (first !== undefined) console.log(first);
  // A line in pieces, one of them bytes: the parent sees it whole, once.
  if (second !== undefined) {
    process.stdout.write(second.slice(0, 3));
    process.stdout.write(Buffer.from(`${second.slice(3)}\n`));
  }
  if (third !== undefined) console.error(third);
  for (const line of rest) process.stdout.write(`${line}\n`, () => undefined);
  if (event.later !== undefined) {
    const later = event.later;
    setTimeout(() => console.log(later), 20);
  }
  if (event.crash) {
    setTimeout(() => {
      console.log('about to fail');
      throw new Error('the container fails');
    }, 20);
  }
  return 'done';
};
