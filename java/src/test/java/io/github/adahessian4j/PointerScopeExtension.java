package io.github.adahessian4j;

import org.bytedeco.javacpp.PointerScope;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * One {@link PointerScope} around each test of a class annotated
 * {@code @ExtendWith(PointerScopeExtension.class)}: opened before the class's {@code @BeforeEach}
 * methods and closed after its {@code @AfterEach} methods (all on the test's thread, as the scope
 * needs), so that every native object the test and its set-up make outside a scope of their own is
 * freed when the test ends.
 */
public final class PointerScopeExtension implements BeforeEachCallback, AfterEachCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(PointerScopeExtension.class);

  @Override
  public void beforeEach(ExtensionContext context) {
    context.getStore(NAMESPACE).put(PointerScope.class, new PointerScope());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    context.getStore(NAMESPACE).remove(PointerScope.class, PointerScope.class).close();
  }
}
