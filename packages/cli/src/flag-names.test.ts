import { PassThrough } from 'node:stream';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { flagNamesOf, inFlagNames } from './flag-names.js';
import { buildProgram } from './program.js';

function command(...path: string[]): Command {
  const program = buildProgram({ stdout: new PassThrough(), stderr: new PassThrough(), env: {}, cwd: process.cwd() }, () => {});
  return path.reduce((parent, name) => parent.commands.find((c) => c.name() === name)!, program);
}

describe('the mesh\'s messages in the CLI\'s words', () => {
  it('names the flags of `certs issue` for the request fields they set', () => {
    const names = flagNamesOf(command('certs', 'issue'));
    expect(inFlagNames('common_name is required', names)).toBe('--common-name is required');
    expect(inFlagNames('the CSR has no common name: set common_name', names)).toBe('the CSR has no common name: set --common-name');
    expect(inFlagNames('validity_days must be between 1 and 825 (0 for the default, 365)', names)).toBe('--days must be between 1 and 825 (0 for the default, 365)');
    expect(inFlagNames('key_algorithm is ES256 but the CSR carries a ED25519 key; leave key_algorithm empty or make them match', names))
      .toBe('--key-algorithm is ES256 but the CSR carries a ED25519 key; leave --key-algorithm empty or make them match');
    expect(inFlagNames('project_id is required: this identity is tied to no project, so name one', names)).toBe('--project is required: this identity is tied to no project, so name one');
  });

  it('names positional arguments as the usage shows them, and one-word fields only where a message starts with them', () => {
    expect(inFlagNames('key_id is required', flagNamesOf(command('keys', 'rotate')))).toBe('<key-id> is required');
    const create = flagNamesOf(command('keys', 'create'));
    expect(inFlagNames('name is required', create)).toBe('--name is required');
    expect(inFlagNames('scopes must name at least one scope', create)).toBe('--scope must name at least one scope');
    expect(inFlagNames('give the key a name, the name is required', create)).toBe('give the key a name, the name is required');
    expect(inFlagNames('manifest_json: assertions[0].data.actions[0].digitalSourceType is required', flagNamesOf(command('sign'))))
      .toBe('--manifest: assertions[0].data.actions[0].digitalSourceType is required');
  });

  it('leaves messages that name no field of the command as they are', () => {
    const names = flagNamesOf(command('projects', 'list'));
    expect(inFlagNames('common_name is required', names)).toBe('common_name is required');
    expect(inFlagNames('this call needs an identity', names)).toBe('this call needs an identity');
  });
});
