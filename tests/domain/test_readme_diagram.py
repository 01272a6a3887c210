from pathlib import Path

from domain.lifecycle import mermaid

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_state_diagram_is_the_one_generated_from_the_machine():
    text = README.read_text()
    start = text.index("<!-- state-diagram:start -->")
    end = text.index("<!-- state-diagram:end -->")
    block = text[start:end]
    assert f"```mermaid\n{mermaid()}```" in block


def test_readme_opens_with_the_two_setup_commands():
    first_block = README.read_text().split("```")[1]
    assert "make run" in first_block and "make test" in first_block
