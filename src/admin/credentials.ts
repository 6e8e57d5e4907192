/**
 * The admin credential check (CONTRACT-ADMIN §2.1, decision Q4): the user name and the password
 * (or its scrypt hash) from the configuration, compared in constant time. Both parts are always
 * checked, so a wrong user name takes as long as a wrong password. Input is trimmed first, as the
 * original does (the configuration refuses values with surrounding whitespace).
 * Never: log or keep what was typed.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { parseScryptHash, type ScryptHash, verifyScrypt } from './password.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

export class Credentials {
  private readonly user: Buffer;
  private readonly password: Buffer | null;
  private readonly hash: ScryptHash | null;

  /** `passwordHash` has been checked by loadConfig; exactly one of password and hash is set. */
  constructor(user: string, password: string | null, passwordHash: string | null) {
    this.user = digest(user);
    this.password = password === null ? null : digest(password);
    const parsed = passwordHash === null ? null : parseScryptHash(passwordHash);
    if (typeof parsed === 'string') throw new Error(`ADMIN_PASSWORD_HASH ${parsed}`);
    this.hash = parsed;
  }

  async verify(user: string, password: string): Promise<boolean> {
    const userOk = timingSafeEqual(digest(user.trim()), this.user);
    const typed = password.trim();
    const passwordOk = this.hash !== null ? await verifyScrypt(this.hash, typed) : timingSafeEqual(digest(typed), this.password as Buffer);
    return userOk && passwordOk;
  }
}
