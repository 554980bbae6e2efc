/** The plane of every host's `address`: what a run measures without --plane. */
export const DEFAULT_PLANE = 'default';
