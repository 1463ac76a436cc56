/** A route's params, percent-decoded; `'malformed'` when an escape does not decode. */
type PathMatch = Readonly<Record<string, string>> | 'malformed';

/** The path of one of the package's routes, matched one way by its router and the parser guard. */
export interface RoutePath {
  /**
   * The route's params when `path` is the route (`whole`: the router's own path, relative to the
   * mount) or ends with it (the parser guard, which sees the mount prefix too); `undefined` when it
   * is not the route.
   */
  match(path: string, whole: boolean): PathMatch | undefined;
}

/**
 * A route path from a pattern anchored at the end: its groups are the params `names`, decoded with
 * `decodeURIComponent` as Express decodes params, so `/l%61test/password` is version `latest` for
 * every caller of `match`.
 */
function routePath(pattern: RegExp, names: readonly string[]): RoutePath {
  return {
    match(path, whole) {
      const match = pattern.exec(path);
      if (match === null || (whole && match.index !== 0)) return undefined;
      const params: Record<string, string> = {};
      try {
        names.forEach((name, index) => {
          params[name] = decodeURIComponent(match[index + 1]);
        });
      } catch {
        return 'malformed';
      }
      return params;
    },
  };
}

// Case-sensitive, with an optional trailing slash as Express routes match.
/** `/:version/password`, the guest route. */
export const GUEST_PASSWORD_PATH = routePath(/\/([^/]+)\/password\/?$/, ['version']);
/** `/servers/:serverId/os-server-password`, the owner route. */
export const OWNER_PASSWORD_PATH = routePath(/\/servers\/([^/]+)\/os-server-password\/?$/, ['serverId']);
