import { randomBytes } from 'node:crypto';
import { BufferError, BufferErrorCode } from './buffer-error';

/**
 * Tenant ids as issued by the control plane (the same pattern as TENANT_ID_PATTERN in
 * @vansales/protocol, kept here so the buffer has no dependency on the wire protocol; a gateway
 * test checks the two agree). Neither pattern admits '.', '/' or '\', so no id can leave its folder.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,39}$/;
export const OBJECT_ID_PATTERN = /^[A-Za-z0-9_-]{8,128}$/;

/** 128 random bits, base64url: unguessable, and valid wherever an object id goes. */
export function newObjectId(): string {
  return randomBytes(16).toString('base64url');
}

export function assertTenantId(tenantId: string): void {
  if (typeof tenantId !== 'string' || !TENANT_ID_PATTERN.test(tenantId)) {
    throw new BufferError(BufferErrorCode.badInput, 'tenant id must be a lowercase slug of 2-40 letters, digits and -');
  }
}

export function assertObjectId(objectId: string): void {
  if (typeof objectId !== 'string' || !OBJECT_ID_PATTERN.test(objectId)) {
    throw new BufferError(BufferErrorCode.badInput, 'object id must be 8-128 letters, digits, _ or -');
  }
}
