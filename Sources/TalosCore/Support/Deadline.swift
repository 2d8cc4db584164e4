import Synchronization

/// Runs `operation` and answers within `deadline`: with its result, or by throwing `timeout()` when time runs out.
///
/// Unlike a task group, this does not wait for an operation that ignores cancellation (postgres-nio's
/// `withConnection` keeps waiting on a connection that died mid-query): the operation runs in its own task, is
/// cancelled at the deadline, and finishes on its own while the caller has already been answered. Cancelling the
/// caller cancels the operation.
public func withDeadline<T: Sendable>(
    _ deadline: Duration,
    timeout: @escaping @Sendable () -> any Error,
    operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    let work = Task { try await operation() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let answer = Answer(continuation)
            let timer = Task {
                guard (try? await Task.sleep(for: deadline)) != nil else { return }
                // Answer first: the cancelled operation may finish at once with a CancellationError, which must
                // not become the caller's answer.
                answer.resume(with: .failure(timeout()))
                work.cancel()
            }
            Task {
                let result = await work.result
                timer.cancel()
                answer.resume(with: result)
            }
        }
    } onCancel: {
        work.cancel()
    }
}

/// Resumes a continuation once, whichever of the operation and the timer comes first.
private final class Answer<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) { self.continuation = Mutex(continuation) }

    func resume(with result: Result<T, any Error>) {
        continuation.withLock { pending in
            pending?.resume(with: result)
            pending = nil
        }
    }
}
