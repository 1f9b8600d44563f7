from mock_interview.cli import app

app(prog_name="mock-interview")
