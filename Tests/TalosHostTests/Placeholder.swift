import HummingbirdTesting
import Testing
@Test func placeholder() {}
