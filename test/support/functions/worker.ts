let calls = 0;

/** Test function for state machines: doubles `value`; fails the first call when `flaky` is set. */
export const handler = async (input: { value: number; flaky?: boolean; sleepMs?: number }) => {
  calls++;
  if (input.sleepMs) await new Promise((resolve) => setTimeout(resolve, input.sleepMs));
  if (input.flaky && calls % 2 === 1) throw Object.assign(new Error('transient'), { name: 'TransientError' });
  if (input.value < 0) throw Object.assign(new Error('negative input'), { name: 'ValidationError' });
  return { doubled: input.value * 2, calls };
};
