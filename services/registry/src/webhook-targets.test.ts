import { describe, expect, it } from 'vitest';
import { createWebhookTargetGuard } from './webhook-targets.js';

/** Literal addresses only: nothing here may look a name up. */
describe('webhook targets follow the one outbound address policy', () => {
  const guard = createWebhookTargetGuard([]);

  it.each([
    ['https://169.254.169.254/latest/meta-data/', 'AWS, GCP, Azure instance metadata'],
    ['https://169.254.170.2/v2/credentials', 'AWS ECS task metadata'],
    ['https://168.63.129.16/machine', 'Azure WireServer, a public-looking address'],
    ['https://100.100.100.200/latest/meta-data/', 'Alibaba Cloud metadata'],
    ['https://[fd00:ec2::254]/latest/meta-data/', 'AWS IPv6 metadata'],
    ['https://[::ffff:169.254.169.254]/', 'metadata behind an IPv4-mapped IPv6 address'],
    ['https://127.0.0.1/', 'loopback'],
    ['https://10.0.0.5/', 'private'],
  ])('refuses %s (%s)', async (url) => {
    await expect(guard.checkUrl(url)).rejects.toMatchObject({ code: 'invalid_argument' });
    expect(guard.addressAllowed(new URL(url).hostname, new URL(url).hostname.replace(/^\[|\]$/g, ''))).toBe(false);
  });

  it('accepts a public address, and what the operator allows', async () => {
    await expect(guard.checkUrl('https://93.184.215.14/hook')).resolves.toBe('https://93.184.215.14/hook');
    const allowing = createWebhookTargetGuard(['127.0.0.1', '10.0.0.0/8']);
    await expect(allowing.checkUrl('http://127.0.0.1:9000/hook')).resolves.toBe('http://127.0.0.1:9000/hook');
    expect(allowing.addressAllowed('10.1.2.3', '10.1.2.3')).toBe(true);
  });
});
