import type { ServiceImpl } from '@connectrpc/connect';
import type { AccountService } from '@c2pa-mesh/proto';
import type { AccountDeps } from './deps.js';
import * as handlers from './handlers.js';
import * as organizations from './organizations.js';

/** The full AccountService: every RPC is listed here, so a missing one does not compile. */
export function createAccountService(deps: AccountDeps): ServiceImpl<typeof AccountService> {
  return {
    register: (req, ctx) => handlers.register(deps, req, ctx),
    verifyEmail: (req, ctx) => handlers.verifyEmail(deps, req, ctx),
    resendVerification: (req, ctx) => handlers.resendVerification(deps, req, ctx),
    login: (req, ctx) => handlers.login(deps, req, ctx),
    refresh: (req) => handlers.refresh(deps, req),
    logout: (req) => handlers.logout(deps, req),
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
  };
}
