import flask

server = flask.Flask(__name__)


@server.route("/")
def index():
    return "hello"


if __name__ == "__main__":
    server.run(port=5000)
