import { describe, expect, it } from 'vitest';
import { credentialsSchema, usernameSchema } from './api.js';

describe('credentials', () => {
  it('folds usernames to lower case and trims them', () => {
    expect(usernameSchema.parse('  Alice.B-2_ ')).toBe('alice.b-2_');
  });

  it.each(['ab', 'a'.repeat(33), 'with space', 'émile', 'semi;colon', 'tab\tname', ''])(
    'rejects the username %j',
    (name) => {
      expect(usernameSchema.safeParse(name).success).toBe(false);
    },
  );

  it('accepts 3 and 32 characters, and passwords of 8 and 256', () => {
    expect(credentialsSchema.safeParse({ username: 'abc', password: '12345678' }).success).toBe(true);
    expect(credentialsSchema.safeParse({ username: 'a'.repeat(32), password: 'p'.repeat(256) }).success).toBe(
      true,
    );
    expect(credentialsSchema.safeParse({ username: 'abc', password: '1234567' }).success).toBe(false);
    expect(credentialsSchema.safeParse({ username: 'abc', password: 'p'.repeat(257) }).success).toBe(false);
  });
});
