"""The guided lesson, as data: each step is a narration and the URL state that shows what it says.

A step names a page of the app and the query parameters (the URL contract: cell, scenario,
sizes, t, bug) that put the page in the state the narration talks about. The lesson page
reads this list; the tests check that every claim in it holds for the state it links to.

    LESSON[3].params  # {'cell': 'rnn', 'scenario': 'classroom', 'bug': 'missing-da-t', 't': '4'}
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class LessonStep:
    """One narrated step of the lesson."""

    title: str
    narration: str  # plain words, markdown; course names in backticks
    look: str  # one line: where on the screen to look
    page: str  # "stepper", "gradient_flow", "itemized" or "gallery"
    params: dict  # the query parameters that put `page` in the narrated state (strings, as in a URL)


CLASSROOM = {"cell": "rnn", "scenario": "classroom"}  # T_x = 5: the loop runs t = 4, 3, 2, 1, 0

LESSON = (
    LessonStep(
        "The backward loop starts at the end",
        "Backpropagation through time runs the loop backward: its first step is the last timestep, "
        "`t = T_x - 1 = 4`. Nothing has come back from the future yet, so the carried gradient `da_prevt` is "
        "zero, and the cell receives only `da[:,:,4]`, the loss's own gradient at the last step.",
        "da_next is exactly da[:,:,t]; the da_prevt panel is all zeros.",
        "stepper",
        {**CLASSROOM, "t": "4"},
    ),
    LessonStep(
        "The carried gradient joins in",
        "One step back, at `t = 3`, the cell receives a sum: `da[:,:,3]`, the loss's gradient at this step, "
        "plus `da_prevt`, what step 4 sent back through `Waa.T`. The hidden state `a<3>` fed two things, the "
        "prediction at step 3 and the next step, so both gradients add up here.",
        "da_next = da[:,:,t] + da_prevt, cell by cell.",
        "stepper",
        {**CLASSROOM, "t": "3"},
    ),
    LessonStep(
        "Back at the start: da0 and the summed weights",
        "At `t = 0` the loop ends. What the cell sends back is the gradient with respect to `a0`, which "
        "`rnn_backward` returns as `da0`. `Waa` was used at every step, so `dWaa` is the sum of every step's "
        "share: the running total now holds all five.",
        "The accumulated dWaa panel: the total the function returns.",
        "stepper",
        {**CLASSROOM, "t": "0"},
    ),
    LessonStep(
        "Forget to add da[:,:,t], and nothing flows",
        "The most common bug: calling `rnn_cell_backward(da_prevt, caches[t])`. At the first step `da_prevt` "
        "is zero, so zero goes in, zero comes out and is carried back, and every gradient is exactly zero. "
        "Every shape is right, so nothing raises: the code just learns nothing.",
        "Every panel after da[:,:,t] is zero; da[:,:,t] itself is untouched.",
        "stepper",
        {**CLASSROOM, "bug": "missing-da-t", "t": "4"},
    ),
    LessonStep(
        "Forget to carry da_prevt, and time is cut",
        "The opposite mistake: `rnn_cell_backward(da[:,:,t], caches[t])`. Each step sees only its own loss, "
        "as if it were the last. The last step is still right; from `t = 3` on, the gradient from the future "
        "is missing, so the weights learn nothing about how earlier steps affect later losses.",
        "da_next equals da[:,:,t] alone; compare it with the correct run.",
        "stepper",
        {**CLASSROOM, "bug": "missing-da-prev", "t": "3"},
    ),
    LessonStep(
        "Vanishing gradients on a long sequence",
        "Now 25 steps, one loss at the very end, and `Waa` with spectral radius 0.5. Each step back multiplies "
        "the gradient by `Waa.T` and by `1 - a²`, which is at most 1. After a few steps there is almost "
        "nothing left: the early inputs barely affect the weights' gradient.",
        "The timeline: the carried gradient fades step after step.",
        "stepper",
        {"cell": "rnn", "scenario": "vanishing", "t": "12"},
    ),
    LessonStep(
        "Exploding gradients",
        "The same sequence with spectral radius 1.5 and tiny inputs that keep `tanh` in its linear range: now "
        "each step back multiplies the gradient by about 1.5, and after twenty steps it is thousands of times "
        "larger than the loss that started it. One training step with this gradient would throw the weights away.",
        "The gradient norm over time grows as t goes down.",
        "stepper",
        {"cell": "rnn", "scenario": "exploding", "t": "8"},
    ),
    LessonStep(
        "The LSTM's cell state",
        "The LSTM carries a second gradient, `dc_prevt`, through its cell state. On that path each step only "
        "multiplies by the forget gate `f`, no matrix and no `tanh'`, and with `f` close to 1 the gradient "
        "survives many steps. That is the whole point of the LSTM.",
        "dc_next is still far from zero where the RNN's gradient had vanished.",
        "stepper",
        {"cell": "lstm", "scenario": "vanishing", "t": "12"},
    ),
    LessonStep(
        "The GRU's update gate",
        "The GRU keeps a single state but gives it the same trick: `a_next = zt * a_prev + (1 - zt) * h_tilde`. "
        "So `da_prev` has a direct term, `da_next * zt`, with no matrix and no `tanh'` on it, next to the terms "
        "through the gates and the candidate. Here the update gate's bias keeps `zt` near 0.88, and the carried "
        "gradient shrinks by about that factor per step instead of collapsing.",
        "The timeline: da_prevt fades slowly, step after step, where the RNN's had vanished.",
        "stepper",
        {"cell": "gru", "scenario": "vanishing", "t": "12"},
    ),
    LessonStep(
        "RNN, LSTM and GRU side by side",
        "The same input and the same loss, through all three cells. On a log scale the RNN's gradient falls on a "
        "straight line whose slope is set by the spectral radius of `Waa`; the product of the step Jacobians "
        "falls with it, which is the cause. The LSTM's cell-state gradient stays up, and the GRU's falls only "
        "as fast as the product of its update gates `∏ z`, its direct path.",
        "The three charts: the RNN's line falls, the LSTM's dc_prevt stays level, the GRU's follows ∏ z.",
        "gradient_flow",
        {"scenario": "vanishing", "scale": "0.5", "T_x": "25"},
    ),
    LessonStep(
        "Where does dWaa come from?",
        "`dWaa` is one matrix, but it is a sum over every loss in the sequence. Running the backward with only "
        "the loss at step s gives that loss's share, and the shares add up exactly to `dWaa`. Losses near the "
        "end reach fewer steps; in a long sequence, the shares of early steps show what vanishing costs.",
        "The stacked bars: each colour is one timestep's loss.",
        "itemized",
        {**CLASSROOM},
    ),
)


def lesson_step(number: int) -> LessonStep:
    """The step numbered from 1, as in `?lesson=3`. lesson_step(1).title -> 'The backward loop starts at the end'"""
    if not 1 <= number <= len(LESSON):
        raise ValueError(f"lesson={number} does not exist: the lesson has steps 1 to {len(LESSON)}")
    return LESSON[number - 1]
