"""One build step pyproject.toml cannot say: the wheel carries the example schemes file.

`schemes.example.toml` stays at the top of the project, where a newcomer copies it
(`cp schemes.example.toml schemes.toml`); the wheel gets it as
`config/schemes.example.toml`, so `shopwatch demo` works where the project is not
(an installed wheel, the image).
"""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

EXAMPLE = "schemes.example.toml"


class BuildWithExample(build_py):
    def run(self) -> None:
        super().run()
        if not self.editable_mode:  # an editable install reads the project's own copy
            target = Path(self.build_lib) / "config" / EXAMPLE
            target.parent.mkdir(parents=True, exist_ok=True)
            self.copy_file(EXAMPLE, str(target))


setup(cmdclass={"build_py": BuildWithExample})
