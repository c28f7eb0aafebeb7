"""nbgrader's configuration of the hnlab course (assignments/README.md).

Run nbgrader from this folder (or through ``hnlab assign``): the course root is this folder whatever
the working directory, so ``source/``, ``release/``, ``submitted/``, ``autograded/``, ``feedback/`` and
``gradebook.db`` all live here. Only ``source/`` and this file are in git.
"""

import os

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "hnlab"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# The student versions: the solution code between the markers becomes this stub.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Autograding runs each notebook top to bottom; the assignments take seconds on a CPU.
c.Execute.timeout = 300
# Kernels log at ERROR only, as in `hnlab run`: no "running over TCP without encryption" per notebook.
c.Execute.extra_arguments = ["--IPKernelApp.log_level=ERROR"]
