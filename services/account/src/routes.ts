import type { ServiceImpl } from '@connectrpc/connect';
import type { AccountService } from '@c2pa-mesh/proto';
import type { AccountDeps } from './deps.js';
import * as device from './device.js';
import * as handlers from './handlers.js';
import { createOidcSignIns } from './oidc.js';
import { createProviderFetchPolicy } from './outbound-fetch.js';
import * as organizations from './organizations.js';

/** The full AccountService: every RPC is listed here, so a missing one does not compile. */
export function createAccountService(deps: AccountDeps): ServiceImpl<typeof AccountService> {
  const oidc = createOidcSignIns(deps, createProviderFetchPolicy(deps.config.oidcAllowHosts));
  return {
    register: (req, ctx) => handlers.register(deps, req, ctx),
    verifyEmail: (req, ctx) => handlers.verifyEmail(deps, req, ctx),
    resendVerification: (req, ctx) => handlers.resendVerification(deps, req, ctx),
    login: (req, ctx) => handlers.login(deps, req, ctx),
    refresh: (req, ctx) => handlers.refresh(deps, req, ctx),
    logout: (req, ctx) => handlers.logout(deps, req, ctx),
    forgotPassword: (req, ctx) => handlers.forgotPassword(deps, req, ctx),
    resetPassword: (req, ctx) => handlers.resetPassword(deps, req, ctx),
    changePassword: (req, ctx) => handlers.changePassword(deps, req, ctx),
    getCurrentUser: (_req, ctx) => handlers.getCurrentUser(deps, ctx),
    listSessions: (_req, ctx) => handlers.listSessions(deps, ctx),
    revokeSession: (req, ctx) => handlers.revokeSession(deps, req, ctx),
    createOrganization: (req, ctx) => organizations.createOrganization(deps, req, ctx),
    listOrganizations: (_req, ctx) => organizations.listOrganizations(deps, ctx),
    createOrganizationProject: (req, ctx) => organizations.createOrganizationProject(deps, req, ctx),
    inviteMember: (req, ctx) => organizations.inviteMember(deps, req, ctx),
    acceptInvitation: (req, ctx) => organizations.acceptInvitation(deps, req, ctx),
    listMembers: (req, ctx) => organizations.listMembers(deps, req, ctx),
    updateMemberRole: (req, ctx) => organizations.updateMemberRole(deps, req, ctx),
    removeMember: (req, ctx) => organizations.removeMember(deps, req, ctx),
    listInvitations: (req, ctx) => organizations.listInvitations(deps, req, ctx),
    revokeInvitation: (req, ctx) => organizations.revokeInvitation(deps, req, ctx),
    setIdentityProvider: (req, ctx) => oidc.setIdentityProvider(req, ctx),
    getIdentityProvider: (req, ctx) => oidc.getIdentityProvider(req, ctx),
    startOidcSignIn: (req, ctx) => oidc.startOidcSignIn(req, ctx),
    finishOidcSignIn: (req, ctx) => oidc.finishOidcSignIn(req, ctx),
    startDeviceLogin: (req, ctx) => device.startDeviceLogin(deps, req, ctx),
    approveDeviceLogin: (req, ctx) => device.approveDevice(deps, req, ctx),
    pollDeviceLogin: (req, ctx) => device.pollDeviceLogin(deps, req, ctx),
  };
}
