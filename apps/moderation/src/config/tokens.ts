export const MODERATION_ENV = Symbol('MODERATION_ENV');
