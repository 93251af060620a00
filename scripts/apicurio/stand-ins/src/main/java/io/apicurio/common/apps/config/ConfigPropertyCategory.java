package io.apicurio.common.apps.config;

/**
 * Stand-in for the enum that apicurio-registry-config-definitions 3.0.9 adds (that version is not
 * served here; 3.0.6, which is, lacks it). The app's classes name these constants only as the
 * category of their {@code @Info} annotations (documentation metadata), so the constants they
 * use are all it needs.
 */
public enum ConfigPropertyCategory {
    CATEGORY_API,
    CATEGORY_AUTH,
    CATEGORY_CACHE,
    CATEGORY_CCOMPAT,
    CATEGORY_DOWNLOAD,
    CATEGORY_GITOPS,
    CATEGORY_HEALTH,
    CATEGORY_IMPORT,
    CATEGORY_LIMITS,
    CATEGORY_REDIRECTS,
    CATEGORY_REST,
    CATEGORY_SEMVER,
    CATEGORY_STORAGE,
    CATEGORY_SYSTEM,
    CATEGORY_UI
}
