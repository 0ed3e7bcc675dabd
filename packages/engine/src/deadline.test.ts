import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDeadline } from './deadline.js';

describe('createDeadline', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('aborts when the time is up, and says so', () => {
    const deadline = createDeadline(new AbortController().signal, 1000);
    vi.advanceTimersByTime(999);
    expect(deadline.signal.aborted).toBe(false);
    vi.advanceTimersByTime(1);
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.expired).toBe(true);
  });

  it("aborts with the caller's reason when the caller does, also when it already had", () => {
    const caller = new AbortController();
    const deadline = createDeadline(caller.signal, 1000);
    caller.abort(new Error('gone'));
    expect(deadline.signal.aborted).toBe(true);
    expect(deadline.signal.reason).toEqual(new Error('gone'));
    expect(deadline.expired).toBe(false);
    expect(createDeadline(caller.signal, 1000).signal.aborted).toBe(true);
  });

  it('starts the clock only when told to', () => {
    const deadline = createDeadline(undefined, 1000, { startNow: false });
    vi.advanceTimersByTime(5000);
    expect(deadline.signal.aborted).toBe(false);
    deadline.start();
    deadline.start();
    vi.advanceTimersByTime(1000);
    expect(deadline.expired).toBe(true);
  });

  it('once released, neither the caller nor the clock aborts it, and no timer is left', () => {
    const caller = new AbortController();
    const deadline = createDeadline(caller.signal, 1000);
    deadline.release();
    expect(vi.getTimerCount()).toBe(0);
    caller.abort();
    vi.advanceTimersByTime(5000);
    expect(deadline.signal.aborted).toBe(false);
    deadline.start();
    expect(vi.getTimerCount()).toBe(0);
  });
});
