/** Makes one cart change per call over a keep-alive connection: add, then remove, and so on. */
import { RawHttpConnection } from "../tests/support/raw_http.ts";

/**
 * One shopper who puts the unit in the cart and takes it out again, so that every call is a
 * change (the version rises by exactly one) and the stock never runs out.
 */
export class CartChanger {
  readonly #connection: RawHttpConnection;
  readonly #session = crypto.randomUUID();
  #holding = false;

  private constructor(connection: RawHttpConnection) {
    this.#connection = connection;
  }

  /**
   * Connects to a server.
   *
   * @param base The server's URL.
   * @returns A changer whose first change is an add.
   */
  static async open(base: URL): Promise<CartChanger> {
    return new CartChanger(await RawHttpConnection.open(base));
  }

  /**
   * Sends `POST /cart` with the next action.
   *
   * @returns The version the server answered.
   * @throws {Error} When the server answers anything but 200.
   */
  async change(): Promise<number> {
    const action = this.#holding ? "remove" : "add";
    const { status, body } = await this.#connection.send(
      "POST",
      "/cart",
      `action=${action}&session=${this.#session}`,
    );
    if (status === 409) {
      throw new Error(`POST /cart answered 409 (sold out): give the server more --inventory`);
    }
    if (status !== 200) throw new Error(`POST /cart answered ${status}: ${body}`);
    this.#holding = !this.#holding;
    return JSON.parse(body).version;
  }

  /** Whether this shopper holds the unit now. */
  get holding(): boolean {
    return this.#holding;
  }

  /**
   * Takes the unit out again if this shopper holds it, so that a run leaves the stock as it was.
   *
   * @returns The version after it, or undefined when nothing changed.
   */
  async release(): Promise<number | undefined> {
    return this.#holding ? await this.change() : undefined;
  }

  /** Closes the connection. */
  close(): void {
    this.#connection.close();
  }
}
