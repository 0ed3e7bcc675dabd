export { AddressPolicy, type AddressVerdict } from './address-policy.js';
