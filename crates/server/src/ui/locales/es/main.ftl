language-name = Español
skip-to-content = Ir al contenido
nav-label = Menú principal
nav-dashboard = Panel
nav-intel = Inteligencia
nav-requests = Solicitudes
nav-sessions = Mis sesiones
pref-language = Idioma
pref-time-zone = Huso horario
pref-apply = Aplicar
sign-out = Cerrar sesión
yes = Sí
no = No

error-back = Volver al panel
error-too-large = El formulario es demasiado grande.
error-csrf = Este formulario ha caducado o no procede de este sitio. Recargue la página e inténtelo de nuevo.
error-forbidden = No tiene permiso para hacer esto.
error-not-found = No encontrado.
error-throttled = Demasiados intentos. Espere un minuto e inténtelo de nuevo.
error-invalid = La solicitud no es válida.
error-internal = Se produjo un error en el servidor. El incidente ha quedado registrado.
error-busy = Hay demasiadas personas conectadas. Inténtelo más tarde.
error-language = Este idioma no está disponible.
error-time-zone = Huso horario desconocido: use un nombre como Europe/Madrid o UTC.

signin-title = Iniciar sesión
signin-name = Nombre de usuario
signin-password = Contraseña
signin-submit = Entrar
signin-failed = Nombre de usuario o contraseña incorrectos.
signin-throttled = Demasiados intentos fallidos. Espere un minuto antes de volver a intentarlo.

sessions-title = Mis sesiones
sessions-count = { $count ->
    [one] Tiene una sesión abierta.
   *[other] Tiene { $count } sesiones abiertas.
}
sessions-since = Inicio
sessions-browser = Navegador
sessions-action = Acción
sessions-current = esta
sessions-revoke = Cerrar esta sesión

dashboard-title = Panel
dashboard-waiting = Solicitudes pendientes de nuestra actuación
dashboard-waiting-count = { $count ->
    [0] Ninguna solicitud espera nuestra actuación.
    [one] Una solicitud espera nuestra actuación.
   *[other] { $count } solicitudes esperan nuestra actuación.
}
dashboard-proposals = Propuestas en votación
dashboard-proposals-count = { $count ->
    [0] Ninguna propuesta está en votación.
    [one] Una propuesta está en votación.
   *[other] { $count } propuestas están en votación.
}
dashboard-recent = Inteligencia nueva esta semana
dashboard-recent-none = Nada nuevo esta semana que usted pueda leer.
dashboard-log = Registro de transparencia
dashboard-log-none = El registro aún no tiene punto de control.
dashboard-cosignatures = { $count ->
    [0] Ningún par ha cofirmado todavía este punto de control.
    [one] Cofirmado por un par.
   *[other] Cofirmado por { $count } pares.
}

intel-title = Inteligencia
intel-none = No puede leer ninguna colección.
intel-filter-type = Tipo de objeto
intel-filter = Filtrar
intel-empty = No hay objetos que mostrar.
intel-objects = Objetos
intel-next = Página siguiente

object-type = Tipo
object-name = Nombre
object-id = Identificador
object-markings = Marcados
object-version = Versión
object-back = Volver a la colección
object-no-tlp = Sin marcado TLP
object-versions = { $count ->
    [one] Una versión
   *[other] { $count } versiones
}
object-json = JSON STIX
object-who-else = Quién más lo ha visto
object-who-else-no-values = Este objeto no contiene ningún valor observable que buscar.
object-who-else-suppressed = En una lista de advertencia, sin correlación:
object-who-else-count = { $count ->
    [0] Ningún otro objeto que usted puede leer lo contiene.
    [one] Otro objeto que usted puede leer lo contiene
   *[other] { $count } otros objetos que usted puede leer lo contienen
}
object-who-else-members = { $count ->
    [one] (un miembro).
   *[other] ({ $count } miembros).
}

tlp-clear = TLP:CLEAR: la divulgación no está limitada.
tlp-green = TLP:GREEN: divulgación limitada, dentro de la comunidad.
tlp-amber = TLP:AMBER: divulgación limitada a la organización del destinatario y sus clientes.
tlp-amber-strict = TLP:AMBER+STRICT: divulgación limitada a la organización del destinatario.
tlp-red = TLP:RED: solo para los destinatarios individuales.
handling-h0 = Solo para fines policiales.
handling-h1 = No utilizable en procesos judiciales sin el consentimiento del emisor.
handling-h2 = Sin difusión ulterior sin el consentimiento del emisor.
handling-h3 = Otras restricciones, indicadas en el texto.

requests-title = Solicitudes de cooperación
requests-new = Redactar una nueva solicitud
requests-inbox = Recibidas: solicitudes dirigidas a nosotros
requests-outbox = Enviadas: nuestras solicitudes
requests-count = { $count ->
    [0] Ninguna solicitud.
    [one] Una solicitud.
   *[other] { $count } solicitudes.
}

request-id = Identificador
request-kind = Tipo
request-partner = Socio
request-requester = Miembro requirente
request-requested = Miembro requerido
request-state = Estado
request-due = Vencimiento (su hora)
request-due-partner = Vencimiento (hora del socio)
request-emergency = Urgencia
request-overdue = Vencida
request-acts = Lo que puede hacer
request-reason = Motivo
request-until = Conservado hasta (RFC 3339)
request-link = Solicitud de seguimiento
request-conditions = Condiciones
request-note = Nota
request-timeline = Historial firmado
request-at = El
request-by = por
request-signature = Firma
request-document = Documento de la solicitud

draft-title = Nueva solicitud
draft-choose = Elegir
draft-to = Miembro requerido (identity--…)
draft-emergency = Urgencia (riesgo inminente para la vida o la seguridad)
draft-emergency-justification = Justificación de la urgencia
draft-source = Exigido por
draft-save = Guardar como borrador

kind-assistance = Asistencia (red 24/7)
kind-preservation = Conservación rápida
kind-disclosure = Revelación rápida de datos de tráfico
kind-production = Orden de presentación
kind-mla = Asistencia judicial mutua

field-authority-name = Autoridad requirente
field-authority-contact = Contacto de la autoridad
field-authority-time-zone = Huso horario de la autoridad
field-legal-basis-instrument = Instrumento jurídico
field-summary = Resumen de los hechos
field-offence = Delito
field-details-incident = Incidente
field-details-help-sought = Ayuda solicitada
field-details-data = Datos que deben conservarse
field-details-relation-to-offence = Relación de los datos con el delito
field-details-custodian = Custodio de los datos
field-details-necessity = Necesidad de la conservación
field-details-mla-to-follow = Seguirá una solicitud de asistencia mutua
field-details-preservation = Conservación a la que sigue
field-details-communication = Comunicación afectada
field-details-categories = Categorías de datos (separadas por comas)
field-details-time-range-from = Desde
field-details-time-range-to = Hasta
field-details-time-range-time-zone = Huso horario del periodo
field-details-addressee = Proveedor de servicios destinatario
field-details-purpose = Finalidad de la solicitud
field-details-assistance-sought = Asistencia solicitada
field-details-laws = Derecho aplicable
field-details-proceedings = Procedimiento afectado

state-draft = Borrador
state-submitted = Enviada
state-delivered = Recibida
state-acknowledged = Acuse de recibo
state-under-review = En examen
state-info-requested = Información solicitada
state-accepted = Aceptada
state-accepted-with-conditions = Aceptada con condiciones
state-postponed = Aplazada
state-refused = Denegada
state-in-execution = En ejecución
state-partially-executed = Ejecutada en parte
state-executed = Ejecutada
state-closed = Cerrada
state-preserved = Datos conservados
state-extended = Prorrogada
state-linked = Vinculada
state-lapsed = Caducada
state-released = Datos liberados
state-withdrawn = Retirada

act-submit = Firmar y enviar
act-deliver = Recibida
act-retrieve = Abierta
act-acknowledge = Acusar recibo
act-review = Iniciar el examen
act-request-info = Pedir información
act-supply-info = Facilitar información
act-accept = Aceptar
act-accept-with-conditions = Aceptar con condiciones
act-accept-conditions = Aceptar las condiciones
act-postpone = Aplazar
act-resume = Reanudar
act-refuse = Denegar
act-execute = Iniciar la ejecución
act-execute-partially = Entregar en parte
act-complete = Completar
act-close = Cerrar
act-preserve = Confirmar la conservación
act-extend = Prorrogar la conservación
act-link = Vincular la solicitud de seguimiento
act-lapse = Registrar la caducidad
act-release = Liberar los datos
act-withdraw = Retirar

reason-essential-interests = Intereses esenciales (soberanía, seguridad, orden público)
reason-political-offence = Delito político
reason-dual-criminality = No se cumple la doble incriminación
reason-immunity = Inmunidades o privilegios
reason-fundamental-rights = Derechos fundamentales
reason-ne-bis-in-idem = Ne bis in idem
reason-incomplete = Solicitud incompleta o manifiestamente errónea
reason-data-not-held = Datos no disponibles
reason-impossible = Ejecución imposible
reason-other = Otro motivo (en la nota)

nav-governance = Gobernanza
nav-members = Miembros
governance-title = Propuestas
governance-proposals = Propuestas, las más recientes primero
governance-count = { $count ->
    [0] No se ha presentado ninguna propuesta.
    [one] Una propuesta.
   *[other] { $count } propuestas.
}
governance-back = Volver a las propuestas
norms-title = Normas y reglas
norms-registry = Registro de normas
norms-count = { $count ->
    [0] No se ha adoptado ninguna norma.
    [one] Una versión de norma.
   *[other] { $count } versiones de normas.
}
norm-version = versión { $count }
norm-repealed = Derogada
norm-in-force = En vigor
norm-decided = Decidida por
norm-founded = Adoptada en la fundación, por el documento de génesis
norm-id = Norma
rules-title = Reglas en vigor
rules-voting-delay = Plazo antes de abrir la votación
rules-voting-period = Periodo de votación
rules-execution-window = Plazo de ejecución
rules-quorum = Quórum (proporción de miembros activos)
rules-abstentions = Las abstenciones cuentan para el quórum
rules-kinds = Lo que requiere cada tipo de propuesta
rules-sponsors = Patrocinadores necesarios
duration-days = { $count ->
    [one] { $count } día
   *[other] { $count } días
}
duration-hours = { $count ->
    [one] { $count } hora
   *[other] { $count } horas
}
duration-minutes = { $count ->
    [one] { $count } minuto
   *[other] { $count } minutos
}
duration-seconds = { $count ->
    [one] { $count } segundo
   *[other] { $count } segundos
}
proposal-kind = Tipo
proposal-state = Estado
proposal-proposer = Propuesta por
proposal-window = Periodo de votación
proposal-tally = Recuento
proposal-id = Identificador
proposal-sponsors = Patrocinadores
proposal-effect = Lo que haría
proposal-member = Miembro
proposal-timeline = Cronología
proposal-tabled = Presentada
proposal-voting-starts = Apertura de la votación
proposal-deadline = Cierre de la votación
proposal-execution-ends = Fin del plazo de ejecución
proposal-vote = Votar en nombre de nuestro miembro
proposal-vote-legend = Voto de nuestro miembro (uno posterior lo sustituye hasta el cierre)
proposal-vote-submit = Firmar y emitir el voto
proposal-cancel = Cancelar esta propuesta
proposal-cancel-explain = Nuestro miembro la presentó y la votación no ha comenzado: la cancelación se firma y se envía a cada miembro, y ningún voto contará.
proposal-cancel-submit = Firmar y enviar la cancelación
proposal-result = Resultado
proposal-result-so-far = Resultado provisional (hasta el cierre)
proposal-quorum = Quórum
proposal-majority = Mayoría
proposal-met = alcanzado
proposal-not-met = no alcanzado
proposal-digest = Huella del resultado
proposal-not-executed = La propuesta fue aprobada, pero su efecto no pudo aplicarse en este nodo (véase el registro del nodo).
proposal-ballots = Votos contados
proposal-ballots-count = { $count ->
    [0] Aún no cuenta ningún voto.
    [one] Un voto contado.
   *[other] { $count } votos contados.
}
proposal-choice = Voto
proposal-refused = Votos rechazados
proposal-reason = Motivo
proposal-kind-admit-member = Admisión de un miembro
proposal-does-admit-member = Admite un nuevo miembro con la clave de su nodo y su país.
proposal-kind-suspend-member = Suspensión de un miembro
proposal-does-suspend-member = Suspende a un miembro activo.
proposal-kind-reinstate-member = Readmisión de un miembro
proposal-does-reinstate-member = Readmite a un miembro suspendido.
proposal-kind-expel-member = Expulsión de un miembro
proposal-does-expel-member = Expulsa a un miembro.
proposal-kind-adopt-norm = Adopción de una norma
proposal-does-adopt-norm = Adopta una norma con los textos siguientes.
proposal-kind-amend-norm = Enmienda de una norma
proposal-does-amend-norm = Sustituye los textos de una norma adoptada por los siguientes.
proposal-kind-repeal-norm = Derogación de una norma
proposal-does-repeal-norm = Deroga una norma adoptada.
proposal-kind-change-rules = Cambio de las reglas
proposal-does-change-rules = Pone en vigor las reglas siguientes.
proposal-kind-joint-statement = Declaración conjunta
proposal-does-joint-statement = Adopta una declaración conjunta, firmada por los miembros que votan a favor.
proposal-kind-revoke-member-key = Revocación de las claves de un miembro
proposal-does-revoke-member-key = Revoca todas las claves de un miembro usadas desde el momento indicado abajo (incluida la de un ladrón que la rotó primero) y fija las nuevas claves que el miembro entregó por otro canal. El miembro afectado vota como cualquier otro, y su voto por sí solo nunca basta.
proposal-revoked-from = Claves revocadas desde
proposal-encryption-key = Clave de cifrado
proposal-state-pending = Pendiente
proposal-state-active = Votación abierta
proposal-state-canceled = Cancelada
proposal-state-defeated = Rechazada
proposal-state-succeeded = Aprobada
proposal-state-executed = Ejecutada
proposal-state-expired = Caducada
choice-yes = A favor
choice-no = En contra
choice-abstain = Abstención
decision-succeeded = Aprobada
decision-defeated = Rechazada
decision-so-far-succeeded = Aprobada por ahora
decision-so-far-defeated = Rechazada por ahora
refusal-malformed = Voto ilegible
refusal-other-proposal = Voto de otra propuesta
refusal-unknown-member = No era miembro al presentarse
refusal-suspended = Suspendido al presentarse
refusal-bad-signature = Firma no válida
refusal-early = Emitido antes de la apertura
refusal-late = Emitido después del cierre
refusal-replayed = Mismo voto recibido de nuevo
refusal-superseded = Sustituido por un voto posterior
refusal-equivocation = Votos contradictorios de un mismo miembro
members-title = Miembros y acuerdos
members-directory = Directorio de miembros
members-count = { $count ->
    [0] No hay ningún miembro registrado.
    [one] Un miembro.
   *[other] { $count } miembros.
}
member-name = Nombre
member-country = País
member-roles = Funciones
member-status = Situación
member-endpoint = Dirección del nodo
member-fingerprint = Huella de la clave
member-key = Clave del nodo
member-local = este nodo
member-role-cert = CERT/CSIRT nacional
member-role-police = Unidad cibernética policial
member-role-judicial = Autoridad judicial
member-role-central-authority = Autoridad central
member-status-active = Activo
member-status-suspended = Suspendido
agreements-title = Acuerdos de intercambio
agreements-count = { $count ->
    [0] Aún no hay acuerdos.
    [one] Un acuerdo.
   *[other] { $count } acuerdos.
}
agreement-id = Identificador
agreement-parties = Partes
agreement-missing = Firma pendiente de
agreement-types = Tipos de objetos
agreement-max-tlp = TLP más restrictivo
agreement-handling = Códigos de tratamiento respetados
agreement-purposes = Finalidades
agreement-valid = Vigencia
agreement-no-end = sin término
agreement-status-proposed = Propuesto
agreement-status-active = Activo
agreement-status-suspended = Suspendido
agreement-status-terminated = Terminado

propose-title = Presentar una propuesta
propose-norm = Identificador de la norma
propose-norm-hint = Hasta 64 letras, cifras, «.», «_» o «-», como gge-2015-13f; para una enmienda o una derogación, el identificador de una norma en vigor.
propose-texts = Texto de la propuesta
propose-texts-hint = { $count ->
    [one] Redáctelo al menos en un idioma, con { $count } carácter como máximo en cada uno; deje vacíos los demás idiomas.
   *[other] Redáctelo al menos en un idioma, con { $count } caracteres como máximo en cada uno; deje vacíos los demás idiomas.
}
propose-no-member = Ningún miembro puede ser objeto de este tipo de propuesta por ahora.
propose-record = Archivo de registro del miembro
propose-record-hint = Pegue el archivo que escribió el nodo del candidato (comity member show-local --out ARCHIVO): su firma se verifica con la clave que contiene, que debe confirmar con el candidato por otro canal.
propose-rules = Nuevas reglas (JSON)
propose-rules-hint = Las reglas en vigor, para modificarlas hasta obtener las propuestas: duraciones en segundos, proporciones como fracciones, por ejemplo 2/3.
propose-revoked-from-hint = Cuándo empezó el compromiso, como hora RFC 3339, p. ej. 2026-12-01T00:00:00Z: lo que las claves del miembro firmaron desde entonces no cuenta.
propose-keys-hint = La nueva clave de identidad y la clave de cifrado, tal como las mostró el nodo del miembro (comity key prepare); confírmelas con el miembro por otro canal.
propose-sponsors-needed = { $count ->
    [0] Este tipo de propuesta no necesita patrocinador.
    [one] Este tipo de propuesta necesita un patrocinador además de nuestro miembro.
   *[other] Este tipo de propuesta necesita { $count } patrocinadores además de nuestro miembro.
}
propose-no-sponsor = Ningún otro miembro activo puede patrocinarla.
propose-too-few-sponsors = Menos miembros pueden patrocinarla de los que exigen las reglas en vigor: el nodo la rechazará.
propose-explain = Al presentarla, la propuesta se firma en nombre de nuestro miembro y se envía a cada miembro activo. Puede cancelarse hasta que se abra la votación.
propose-submit = Firmar y presentar la propuesta
error-propose-text-long = { $count ->
    [one] Un texto puede tener como máximo { $count } carácter.
   *[other] Un texto puede tener como máximo { $count } caracteres.
}
error-propose-text-empty = Redacte el texto al menos en un idioma.
error-propose-norm-empty = Indique el identificador de la norma.
error-propose-member-empty = Elija el miembro al que se refiere la propuesta.
error-propose-member-unknown = Este miembro no figura en el directorio de miembros.
error-propose-sponsor-unknown = Un patrocinador no figura en el directorio de miembros.
error-propose-record-empty = Pegue el archivo de registro del miembro candidato.
error-propose-record = El archivo de registro del miembro ha sido rechazado.
error-propose-rules-empty = Indique las reglas que se pondrán en vigor.
error-propose-rules = Estas reglas no se pueden leer.
error-propose-revoked-from = Indique la hora en formato RFC 3339, p. ej. 2026-12-01T00:00:00Z.
error-propose-key-empty = Indique la nueva clave de identidad y la clave de cifrado del miembro.
error-propose-key = Se rechaza una clave.
error-propose-refused = El nodo se negó a presentar esta propuesta.

nav-tokens = Tokens de API
nav-admin = Administración
tokens-title = Tokens de API
tokens-explain = Un token de API permite que un programa (un cliente TAXII, un sensor, un script) actúe en su nombre a través de la API del nodo, con su función, hasta que caduque o se revoque.
tokens-mine = Sus tokens
tokens-all = Todos los tokens de este nodo
tokens-count = { $count ->
    [0] Ningún token.
    [one] Un token.
   *[other] { $count } tokens.
}
tokens-back = Volver a los tokens de API
token-label = Etiqueta
token-id = Identificador
token-holder = Titular
token-for-member = miembro par
token-created = Creado
token-expires = Caduca
token-never = nunca
token-state = Estado
token-action = Acción
token-state-active = Activo
token-state-expired = Caducado
token-state-revoked = Revocado
token-revoke = Revocar
token-new = Nuevo token
token-label-hint = { $count ->
    [one] Para qué sirve, por ejemplo «sincronización MISP»: { $count } carácter como máximo.
   *[other] Para qué sirve, por ejemplo «sincronización MISP»: { $count } caracteres como máximo.
}
token-days = Días hasta que caduque
token-days-hint = { $count ->
    [one] De 1 a { $count } día.
   *[other] De 1 a { $count } días.
}
token-member = Emitirlo para un miembro par
token-member-hint = El token de un miembro par solo lee las vistas de política hechas para ese miembro.
token-member-none = No: un token para mí
token-create-explain = El token se muestra una sola vez, en la página siguiente; el nodo solo guarda su huella.
token-create = Crear el token
token-created-title = Token creado
token-secret = El token
token-use = Los programas lo envían en una cabecera:
secret-once = Cópielo ahora: se muestra esta vez y nunca más, y el nodo no podrá mostrárselo a nadie después. Guárdelo tan en secreto como una contraseña.
error-token-label = { $count ->
    [one] Indique una etiqueta de 1 a { $count } carácter, sin caracteres de control.
   *[other] Indique una etiqueta de 1 a { $count } caracteres, sin caracteres de control.
}
error-token-days = Indique un número entero de días, de 1 a { $count }.
error-token-member = Este miembro no puede recibir un token.
error-token-revoke = Este token no se puede revocar.

admin-title = Administración
admin-users = Usuarios
admin-users-count = { $count ->
    [0] Ningún usuario.
    [one] Un usuario.
   *[other] { $count } usuarios.
}
admin-user = Nombre de usuario
admin-role = Función
admin-change-role = Cambiar la función
admin-new-role = Nueva función de
admin-set-role = Cambiar
admin-you = usted
role-viewer = Lector (lee)
role-analyst = Analista (lee y escribe inteligencia)
role-liaison = Oficial de enlace (solicitudes de cooperación)
role-admin = Administrador
admin-new-user = Añadir un usuario
admin-name-hint = { $count ->
    [one] { $count } carácter como máximo, sin «:» ni caracteres de control.
   *[other] { $count } caracteres como máximo, sin «:» ni caracteres de control.
}
admin-password = Contraseña
admin-password-again = Repita la contraseña
admin-password-hint = { $count ->
    [one] Escriba dos veces una contraseña de al menos { $count } carácter, o deje ambos campos vacíos para que se genere una y se muestre una vez.
   *[other] Escriba dos veces una contraseña de al menos { $count } caracteres, o deje ambos campos vacíos para que se genere una y se muestre una vez.
}
admin-new-user-explain = Añadir un usuario, como cambiar una función, queda registrado en el registro de transparencia del nodo (nombre y función, nunca la contraseña).
admin-add-user = Añadir el usuario
admin-user-added = Usuario añadido
admin-password-generated = La contraseña generada
admin-password-typed = El usuario inicia sesión con la contraseña que usted escribió.
admin-back = Volver a la administración
admin-sessions = Sesiones abiertas de todos los usuarios
admin-sessions-count = { $count ->
    [0] Ninguna sesión abierta.
    [one] Una sesión abierta.
   *[other] { $count } sesiones abiertas.
}
error-admin-name = Este nombre de usuario no se admite.
error-admin-exists = Ya existe un usuario con este nombre.
error-admin-no-user = No existe ese usuario.
error-admin-role = Elija una de las funciones ofrecidas.
error-admin-password-mismatch = Las dos contraseñas no coinciden.
error-admin-password-short = { $count ->
    [one] La contraseña necesita al menos { $count } carácter.
   *[other] La contraseña necesita al menos { $count } caracteres.
}
error-admin-no-session = Esta sesión ya ha terminado.
