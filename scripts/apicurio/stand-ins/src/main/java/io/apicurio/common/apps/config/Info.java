package io.apicurio.common.apps.config;

import jakarta.enterprise.util.Nonbinding;
import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Stand-in for the {@code @Info} annotation of apicurio-registry-config-definitions 3.0.9 (not
 * served here): that of 3.0.6 (served, used for the rest of the module) types {@code category} as
 * a String, where the 3.0.9 app's classes give a {@link ConfigPropertyCategory}. Documentation
 * metadata on configuration properties; every use in the app sets {@code category}.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.FIELD, ElementType.METHOD})
public @interface Info {
    @Nonbinding
    ConfigPropertyCategory category();

    @Nonbinding
    String description() default "";

    @Nonbinding
    String availableSince() default "";

    @Nonbinding
    String registryAvailableSince() default "";

    @Nonbinding
    String studioAvailableSince() default "";

    @Nonbinding
    String[] seeAlso() default {};

    @Nonbinding
    String[] dependsOn() default {};
}
