"""Exceptions raised by socialrec."""


class DivergenceError(ArithmeticError):
    """Training produced a NaN or infinite loss.

    The message names the epoch; the model keeps the parameters of the last finished epoch whose loss was
    finite, or is left unfitted when the first epoch diverged. A smaller ``learning_rate`` (or a larger
    ``regularization``) usually cures it; the message says what to change where that advice does not apply
    (a penalty weight so large that its own steps overshoot; ALS and SocialALS, which have no learning rate).
    """

    def __init__(self, epoch, loss, hint="try a smaller learning_rate"):
        self.epoch = epoch
        self.loss = loss
        super().__init__(f"training diverged at epoch {epoch} (loss = {loss}); {hint}")


class CudaError(RuntimeError):
    """An error reported by the CUDA back-end (never an abort)."""


class NotFittedError(ValueError, AttributeError):
    """A method that needs a fitted model was called before ``fit``."""


class UnverifiedCudaWarning(RuntimeWarning):
    """``device="cuda"`` was asked for, but the CUDA kernels have not yet passed the GPU suite on a real device
    (``socialrec/_gpu_status.py``); warned once per process. Silence it with
    ``warnings.simplefilter("ignore", socialrec.UnverifiedCudaWarning)``."""
