import { describe, expect, it } from 'vitest';
import { parsePrometheusText } from './prometheus-text.js';

describe('parsePrometheusText', () => {
  it('reads NaN and Inf in any case, as Prometheus does, and still refuses other words', () => {
    const text = [
      '# HELP lag Event-loop lag.',
      '# TYPE lag gauge',
      'lag{kind="mean"} Nan',
      'lag{kind="max"} +Inf',
      'lag{kind="min"} -inf',
      'lag{kind="p50"} 0.25',
      '',
    ].join('\n');
    const families = parsePrometheusText(text);
    const samples = families.get('lag')!.samples;
    expect(samples.map((s) => s.value)).toEqual([NaN, Infinity, -Infinity, 0.25]);
    expect(() => parsePrometheusText('# TYPE lag gauge\nlag Nope\n')).toThrow(/bad value in: lag Nope/);
  });
});
